from socialrx.cli import app

app()
