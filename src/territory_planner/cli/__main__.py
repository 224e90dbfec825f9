"""``python -m territory_planner.cli``: the same commands as ``territory-planner``."""

from . import main

if __name__ == "__main__":
    main()
