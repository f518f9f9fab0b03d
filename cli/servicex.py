"""``vibeplot servicex``: the local ServiceX-compatible backend."""

from __future__ import annotations

from pathlib import Path

import click


@click.group()
def servicex():
    """The loopback ServiceX-compatible backend used for local files and OpenData."""


@servicex.command()
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True, help="0 picks a free port.")
@click.option("--log", "log_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the request log to this file.")
@click.option("--config-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write a servicex.yaml for the client into this directory.")
def serve(port, log_path, config_dir):
    """Serve ServiceX's REST API on 127.0.0.1 until Ctrl-C.

    Transforms (uproot-raw, FuncADL on flat trees) run for real on local files;
    results go to an S3-compatible store on loopback. Point the unmodified
    servicex client at it with the servicex.yaml from --config-dir.
    """
    from vibeplot.core.servicex.local.launcher import config_text, serve as run_backend

    def ready(info: dict) -> None:
        click.echo(f"local ServiceX at {info['url']} (S3 {info['s3']}); Ctrl-C stops it")
        if config_dir is not None:
            config_dir.mkdir(parents=True, exist_ok=True)
            target = config_dir / "servicex.yaml"
            target.write_text(config_text(info["url"], config_dir.resolve() / "servicex-cache"))
            click.echo(f"client configuration: {target}")

    run_backend(port=port, log_path=log_path, ready=ready)
