"""Collection: site profiles (validated YAML) and the pure parts of crawling them (selector
extraction, link classification, the outbound-address guard). The fetching loop lives in
tracelight.services.crawl (docs/crawl.md)."""
