"""``socialrx catalogue ...``: import and export the HSDS directory."""

import typer

catalogue_app = typer.Typer(
    help="The community-service directory (HSDS 3.0).", no_args_is_help=True
)
