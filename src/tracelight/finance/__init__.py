"""Follow the money: FinCEN / FINTRAC red flags over bank transactions (pure core).

records (Transaction, Account), readers (native CSV/JSONL, AMLworld), the red-flag catalogue
(redflags.yaml, validated at load), the streaming scorer (indicators per account over sliding
windows, typologies that fire only on combinations), draft SAR narratives, a synthetic bank
with planted typologies and their truth, and precision/recall against it.

No store, web, CLI or service imports: see docs/finance.md and docs/architecture.md.
"""
