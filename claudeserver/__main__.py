from claudeserver.cli import main

raise SystemExit(main())
