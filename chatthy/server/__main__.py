"""``python -m chatthy.server``: what the autostart and service files run."""

from chatthy.server.daemon import main

if __name__ == "__main__":
    main()
