"""``python -m netvigil``: the same as the ``netvigil`` command."""

from netvigil.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
