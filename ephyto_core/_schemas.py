"""The hub profile's XSD set (``schemas/xsd/``), compiled with lxml, nothing fetched.

Compiling follows ``HubProfile.xsd``, which imports all seven namespaces of the profile. Every
file is read through a resolver that serves files inside the XSD folder and refuses anything
else (another folder, ``http://``, a symlink leading out), so a stray ``schemaLocation`` fails
the start-up instead of reaching the network or the file system; DTDs are neither loaded nor
expanded.

One compiled set per thread: an ``XMLSchema`` keeps the findings of its last ``validate`` in
``error_log``, and two threads validating with the same object mix each other's findings (seen
with lxml 6.1 / libxml2 2.14). ``default_schema_set()`` therefore caches per thread; a set costs
each thread one compile (19-59 ms for the three schemas, measured on a busy development box).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from lxml import etree

from ephyto_core import _paths
from ephyto_core._namespaces import ACK, RSM

#: The file that pulls in the whole profile.
ENTRY_FILE = "HubProfile.xsd"

#: ``XMLSchema.validate`` accepts any global element of the profile as a document root (the
#: profile declares rsm:SPSConsignment, ram:Name ... globally); callers check the root first.
CERTIFICATE_ROOT = f"{{{RSM}}}SPSCertificate"
ACKNOWLEDGEMENT_ROOT = f"{{{ACK}}}SPSAcknowledgement"


class SchemaLoadError(RuntimeError):
    """The XSD set could not be compiled: a deployment fault, not bad input."""


class SchemaLocationRefused(SchemaLoadError):
    """A schema tried to load something from outside the XSD folder."""

    def __init__(self, location: str, folder: Path) -> None:
        super().__init__(f"schema location outside {folder} refused: {location}")
        self.location = location


@dataclass(frozen=True)
class SchemaSet:
    """The compiled hub profile, under the name of each use.

    All three hold the same rules (the whole profile: see ``HubProfile.xsd`` for why), compiled
    separately so that each keeps its own ``error_log``:

    - ``certificate`` for an ``rsm:SPSCertificate`` document (:data:`CERTIFICATE_ROOT`),
    - ``acknowledgement`` for an ``SPSAcknowledgement`` (:data:`ACKNOWLEDGEMENT_ROOT`),
    - ``hub`` for envelopes and SOAP body elements of ``http://ephyto.ippc.int/`` and
      ``http://ephyto.ippc.int/HUB.Entities``.
    """

    certificate: etree.XMLSchema
    acknowledgement: etree.XMLSchema
    hub: etree.XMLSchema


def load_schema_set(xsd_dir: Path | None = None) -> SchemaSet:
    """Compile the profile found in ``xsd_dir`` (default: the bundled ``schemas/xsd``)."""
    folder = (xsd_dir if xsd_dir is not None else _paths.xsd_dir()).resolve()
    return SchemaSet(
        certificate=_compile(folder),
        acknowledgement=_compile(folder),
        hub=_compile(folder),
    )


_per_thread = threading.local()


def default_schema_set() -> SchemaSet:
    """The bundled profile, compiled once per calling thread."""
    cached: SchemaSet | None = getattr(_per_thread, "schema_set", None)
    if cached is None:
        cached = load_schema_set()
        _per_thread.schema_set = cached
    return cached


def _compile(folder: Path) -> etree.XMLSchema:
    resolver = _FolderResolver(folder)
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    parser.resolvers.add(resolver)
    entry = folder / ENTRY_FILE
    try:
        document = etree.parse(str(entry), parser)
        return etree.XMLSchema(document)
    except (OSError, etree.XMLSyntaxError, etree.XMLSchemaParseError) as exc:
        # A refusal inside libxml2 surfaces as a generic "failed to load" error; name it.
        if resolver.refused:
            raise SchemaLocationRefused(resolver.refused[0], folder) from exc
        raise SchemaLoadError(f"cannot compile {entry}: {exc}") from exc


class _FolderResolver(etree.Resolver):
    """Serves files inside one folder; refuses every other URL by raising."""

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self._folder = folder
        self.refused: list[str] = []

    # lxml-stubs omit the ``context`` argument lxml passes.
    def resolve(self, system_url: str, public_id: str, context: object) -> object:  # type: ignore[override]
        path = self._inside_folder(system_url)
        if path is None:
            self.refused.append(system_url)
            # Returning None would let libxml2 fall back to its default loader; raising stops it.
            raise SchemaLocationRefused(system_url, self._folder)
        return self.resolve_string(path.read_bytes(), context, base_url=str(path))

    def _inside_folder(self, url: str) -> Path | None:
        parts = urlsplit(url)
        if parts.scheme not in ("", "file") or parts.netloc not in ("", "localhost"):
            return None
        if parts.query or parts.fragment:
            return None
        path = Path(unquote(parts.path))
        if not path.is_absolute():
            path = self._folder / path
        path = path.resolve()
        # A missing file inside the folder is not refused here: reading it fails, and libxml2
        # reports that as a load error naming the file.
        return path if path.is_relative_to(self._folder) else None
