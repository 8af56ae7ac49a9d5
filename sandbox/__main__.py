"""`python -m sandbox [--config FILE] [--db PATH] [--host H] [--port P]`: the sandbox alone."""

import argparse
import sys

from sandbox.cli import add_arguments, main

if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    add_arguments(parser)
    sys.exit(main(parser.parse_args()))
