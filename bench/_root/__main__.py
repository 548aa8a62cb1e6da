"""`python -m undertow` runs the same CLI as the `undertow` console script."""

from undertow.bench.cli import main

if __name__ == "__main__":
    main()
