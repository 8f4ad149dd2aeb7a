"""Build hook: compile the optional C speedups of the OpenAttestation library.

`uv sync` (an editable install) compiles `_speedups.c` next to its source, a wheel build puts it
in the wheel. Without a working C compiler the build goes on and the library takes its pure
Python route, which produces the same documents more slowly; set SMARTNATION_NO_SPEEDUPS=1 to
skip compiling on purpose.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

PACKAGE = "smartnation/healthcerts/openattestation"
SOURCE = f"src/{PACKAGE}/_speedups.c"


def _compile(source: Path, target: Path) -> str | None:
    """Compile one C file into an extension module; the reason it failed, or None."""
    compiler = shlex.split(os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc")
    if not shutil.which(compiler[0]):
        return f"no C compiler ({compiler[0]})"
    include = sysconfig.get_paths()["include"]
    command = [
        *compiler,
        "-O3",
        "-fPIC",
        "-shared",
        f"-I{include}",
        str(source),
        "-o",
        str(target),
    ]
    try:
        # the compiler named by this Python's own build configuration (or $CC)
        result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    except OSError as exc:
        return str(exc)
    if result.returncode != 0:
        return result.stderr.strip() or f"{compiler[0]} exited with {result.returncode}"
    return None


class SpeedupsBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or os.environ.get("SMARTNATION_NO_SPEEDUPS") == "1":
            return
        source = Path(self.root) / SOURCE
        name = "_speedups" + (sysconfig.get_config_var("EXT_SUFFIX") or ".so")
        if version == "editable":
            target = source.with_name(name)  # the editable install imports straight from src/
        else:
            self._temporary = tempfile.mkdtemp()
            target = Path(self._temporary) / name
        failure = _compile(source, target)
        if failure:
            print(
                f"warning: OpenAttestation C speedups not built ({failure}); "
                "the pure Python route will be used",
                file=sys.stderr,
            )
            return
        if version != "editable":
            build_data["force_include"][str(target)] = f"{PACKAGE}/{name}"
            build_data["pure_python"] = False
            build_data["infer_tag"] = True

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        temporary = getattr(self, "_temporary", None)
        if temporary:
            shutil.rmtree(temporary, ignore_errors=True)
