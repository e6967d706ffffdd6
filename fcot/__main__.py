from fcot.cli import main

raise SystemExit(main())
