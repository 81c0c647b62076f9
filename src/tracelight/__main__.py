from tracelight.cli.main import main

main()
