"""`smartnation certs`: verify, wrap, sign and obfuscate OpenAttestation documents."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import Progress

from .openattestation import (
    HttpxOcspFetcher,
    OpenAttestationError,
    VerificationContext,
    is_valid,
    load_private_key,
    sign_document,
    verify_document,
    wrap_documents,
)
from .openattestation.dns import ENV_SETTING, TableTxtResolver, txt_resolver_from_setting
from .openattestation.obfuscate import obfuscate_document

COMMAND_NAME = "certs"
app = typer.Typer(help="Verify, wrap, sign and obfuscate HealthCerts (OpenAttestation v2).")
_out = Console(soft_wrap=True)
_err = Console(stderr=True, soft_wrap=True)
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024  # far above any real certificate; refuses runaway input

_STATUS_WORDS = {
    "VALID": "[green]passed[/green]",
    "INVALID": "[red]failed[/red]",
    "ERROR": "[yellow]could not be checked[/yellow]",
    "SKIPPED": "[dim]not applicable[/dim]",
}
_CHECK_WORDS = {
    "DOCUMENT_INTEGRITY": "Document integrity",
    "DOCUMENT_STATUS": "Issuance and revocation",
    "ISSUER_IDENTITY": "Issuer identity",
}


def _fail(message: str, code: int = 2) -> NoReturn:
    _err.print(f"[red]Error:[/red] {message}", highlight=False)
    raise typer.Exit(code)


def _read_json(path: Path) -> Any:
    try:
        if path.stat().st_size > MAX_DOCUMENT_BYTES:
            _fail(f"{path} is larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MiB")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        _fail(f"{path} does not exist")
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"cannot read {path}: {exc}")
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except ValueError as exc:
        _fail(f"{path} is not valid JSON: {exc}")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in JSON")


def _write_json(path: Path, document: Any) -> None:
    try:
        path.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        _fail(f"cannot write {path}: {exc}")


@app.command()
def verify(
    file: Annotated[Path, typer.Argument(help="Wrapped (and signed) document to verify.")],
    dns_records: Annotated[
        Path | None,
        typer.Option(help='JSON table {"domain": ["txt record", ...]} to use instead of DNS.'),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the fragments as JSON.")] = False,
) -> None:
    """Verify a document; exit status 0 only when it is valid."""
    document = _read_json(file)
    try:
        resolver = (
            TableTxtResolver.from_json_file(dns_records)
            if dns_records
            else txt_resolver_from_setting(os.environ.get(ENV_SETTING))
        )
    except ValueError as exc:
        _fail(str(exc))
    context = VerificationContext(dns=resolver, ocsp_fetcher=HttpxOcspFetcher())
    fragments = verify_document(document, context)
    valid = is_valid(fragments)
    if as_json:
        typer.echo(json.dumps([f.to_json() for f in fragments], indent=2, ensure_ascii=False))
    else:
        for fragment in fragments:
            check = _CHECK_WORDS[fragment.type]
            line = f"{check} ({fragment.name}): {_STATUS_WORDS[fragment.status]}"
            if fragment.reason is not None and fragment.status != "SKIPPED":
                line += f" - {fragment.reason.message} [{fragment.reason.code_string}]"
            _out.print(line, highlight=False)
        verdict = "[green]VALID[/green]" if valid else "[red]NOT VALID[/red]"
        _out.print(f"\nThe document is {verdict}.")
    raise typer.Exit(0 if valid else 1)


@app.command()
def wrap(
    raw_dir: Annotated[Path, typer.Argument(help="Folder of raw .json documents.")],
    output_dir: Annotated[Path, typer.Option(help="Folder for the wrapped documents.")],
) -> None:
    """Wrap every .json document in RAW_DIR as one batch, keeping the file names."""
    if not raw_dir.is_dir():
        _fail(f"{raw_dir} is not a folder")
    files = sorted(p for p in raw_dir.iterdir() if p.suffix == ".json" and p.is_file())
    if not files:
        _fail(f"no .json files in {raw_dir}")
    documents = [_read_json(p) for p in files]
    for path, document in zip(files, documents, strict=True):
        if not isinstance(document, dict):
            _fail(f"{path} must contain a JSON object")
    with Progress(console=_err, transient=True) as progress:
        task = progress.add_task("Wrapping", total=len(documents))
        try:
            wrapped = wrap_documents(documents, progress=lambda n: progress.advance(task, n))
        except (OpenAttestationError, TypeError) as exc:
            _fail(f"cannot wrap: {exc}")
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _fail(f"cannot create {output_dir}: {exc}")
    for path, document in zip(files, wrapped, strict=True):
        _write_json(output_dir / path.name, document)
    root = wrapped[0]["signature"]["merkleRoot"]
    _out.print(f"Wrapped {len(wrapped)} documents into {output_dir} (merkle root {root}).")


@app.command()
def sign(
    directory: Annotated[Path, typer.Argument(help="Folder of wrapped .json documents.")],
    key_file: Annotated[Path, typer.Option(help="File holding the private key (hex).")],
    public_key: Annotated[str, typer.Option(help="Key id, e.g. did:ethr:0x...#controller.")],
    output_dir: Annotated[Path, typer.Option(help="Folder for the signed documents.")],
) -> None:
    """Sign every wrapped document in DIRECTORY with a DID key."""
    try:
        key = load_private_key(key_file.read_text(encoding="utf-8"))
    except OSError as exc:
        _fail(f"cannot read {key_file}: {exc}")
    except OpenAttestationError as exc:
        _fail(str(exc))
    if not directory.is_dir():
        _fail(f"{directory} is not a folder")
    files = sorted(p for p in directory.iterdir() if p.suffix == ".json" and p.is_file())
    if not files:
        _fail(f"no .json files in {directory}")
    signed = []
    for path in files:
        try:
            signed.append(sign_document(_read_json(path), key, public_key))
        except OpenAttestationError as exc:
            _fail(f"cannot sign {path}: {exc}")
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _fail(f"cannot create {output_dir}: {exc}")
    for path, document in zip(files, signed, strict=True):
        _write_json(output_dir / path.name, document)
    _out.print(f"Signed {len(signed)} documents into {output_dir}.")


@app.command()
def obfuscate(
    file: Annotated[Path, typer.Argument(help="Wrapped document.")],
    fields: Annotated[str, typer.Option(help="Comma-separated field paths, e.g. a.b,c.")],
    output: Annotated[Path, typer.Option(help="Where to write the obfuscated document.")],
) -> None:
    """Hide fields of a wrapped document while keeping it verifiable."""
    document = _read_json(file)
    if not isinstance(document, dict) or not isinstance(document.get("data"), dict):
        _fail(f"{file} is not a wrapped document (no data object)")
    paths = [f.strip() for f in fields.split(",") if f.strip()]
    if not paths:
        _fail("give at least one field to obfuscate")
    try:
        result = obfuscate_document(document, paths)
    except OpenAttestationError as exc:
        _fail(str(exc))
    _write_json(output, result)
    _out.print(f"Obfuscated {', '.join(paths)} into {output}.")
