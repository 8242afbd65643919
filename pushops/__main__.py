from pushops.cli import main

main()
