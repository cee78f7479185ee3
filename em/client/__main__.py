"""`python -m em.client` runs the `em` command line, for environments without the console script."""

from em.client.cli import main

main(prog_name="em")
