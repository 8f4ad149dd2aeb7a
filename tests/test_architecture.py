"""The dependency rules of the design, checked rather than reviewed."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from smartnation.core.db import Base
from smartnation.domains import register_models

SRC = Path(__file__).resolve().parents[1] / "src" / "smartnation"
DOMAINS = sorted(
    p.name
    for p in SRC.iterdir()
    if p.is_dir() and (p / "__init__.py").exists() and p.name not in ("core", "locale")
)


def test_import_contracts_hold() -> None:
    """core imports no domain; domains never import the entry points (import-linter)."""
    result = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports"))],
        capture_output=True,
        text=True,
        check=False,
        cwd=SRC.parents[1],
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
            names.extend(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_domains_import_each_other_only_through_service() -> None:
    offences = []
    for domain in DOMAINS:
        for path in (SRC / domain).rglob("*.py"):
            for name in _imports(path):
                parts = name.split(".")
                if len(parts) < 2 or parts[0] != "smartnation":
                    continue
                other = parts[1]
                if (
                    other in DOMAINS
                    and other != domain
                    and not (len(parts) == 2 or parts[2] == "service")
                ):
                    offences.append(f"{path.relative_to(SRC)} imports {name}")
    # `from smartnation.x import service` lists smartnation.x then smartnation.x.service: allowed.
    offences = [o for o in offences if not o.endswith(tuple(f"smartnation.{d}" for d in DOMAINS))]
    assert offences == []


def test_models_and_migrations_agree(database_url: str) -> None:
    """Every model change comes with its migration, on both databases."""
    register_models()
    engine = sa.create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as connection:
        # Daily partitions of partitioned tables (PostgreSQL) are data, not schema.
        partitions = (
            set(connection.scalars(sa.text("SELECT relname FROM pg_class WHERE relispartition")))
            if connection.dialect.name == "postgresql"
            else set()
        )

        def include_name(name: str | None, type_: str, parent_names: dict[str, str]) -> bool:
            table = name if type_ == "table" else parent_names.get("table_name")
            return table not in partitions

        context = MigrationContext.configure(
            connection, opts={"compare_type": False, "include_name": include_name}
        )
        differences = compare_metadata(context, Base.metadata)
        # Alembic does not compare primary keys; a partitioned table's is easy to get wrong.
        inspector = sa.inspect(connection)
        keys = []
        for table in Base.metadata.sorted_tables:
            declared = [column.name for column in table.primary_key.columns]
            partitioned = table.dialect_options["postgresql"].get("partition_by")
            if partitioned and connection.dialect.name == "sqlite":
                # SQLite generates ids only for a sole INTEGER PRIMARY KEY, so a table that
                # PostgreSQL partitions keeps its partition column out of the key there.
                declared = [name for name in declared if name == "id"]
            found = inspector.get_pk_constraint(table.name)["constrained_columns"]
            if found != declared:
                keys.append((table.name, declared, found))
    engine.dispose()
    assert differences == []
    assert keys == []
