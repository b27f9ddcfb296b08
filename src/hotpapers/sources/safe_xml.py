"""XML bodies parsed safely, for every source that reads XML (arXiv's API, OAI-PMH and RSS,
Reddit's feeds): defusedxml with DTDs forbidden, and one SourceError for any bad body."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import defusedxml.ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from hotpapers.errors import SourceError

__all__ = ["parse_xml"]


def parse_xml(body: bytes, what: str) -> ET.Element:
    """The root element; SourceError naming the request and the reason when the body is
    malformed, declares an encoding Python cannot read, or has a DTD (entity bombs and
    external entities never get parsed)."""
    try:
        return SafeET.fromstring(body, forbid_dtd=True)
    except ET.ParseError as exc:
        line, column = exc.position
        raise SourceError(f"{what}: malformed XML at line {line}, column {column}") from None
    except DefusedXmlException:
        raise SourceError(f"{what}: refusing XML with a DOCTYPE (a document type "
                          "declaration) or entities") from None
    except (LookupError, ValueError) as exc:  # unknown or multi-byte encoding declarations
        reason = " ".join(str(exc).split())[:200]
        raise SourceError(f"{what}: unreadable XML: {reason}") from None
