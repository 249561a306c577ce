r"""HL7 v2 adapter: parse ER7 messages, and read ADT, REF, SIU, ORU and MDM into records.

:func:`read` reads messages (files, folders, text, bytes, MLLP frames, streams) into the
same :class:`ImportResult` of patient records that ``carecoord.fhir.read`` returns:
admissions and discharges become care transitions, referrals, appointments, results and
documents the same facts the FHIR reader makes, so every gap rule works on them.

:func:`parse_message` parses one message (text or bytes) into a :class:`Message` whose
values are read by location (``message.get("PV1-45[1].1")``) or segment by segment;
:func:`split_messages` splits a file or batch holding several messages. Text that is not a
message raises :class:`~carecoord.errors.MalformedMessage`, which says where, never what.

>>> from carecoord import hl7v2
>>> msg = hl7v2.parse_message("MSH|^~\\&|ADT1|GOOD HEALTH|||202601020304||ADT^A01|MSG1|P|2.5\r"
...                           "PID|1||P123^^^GHH^MR~S456^^^SSA^SS")
>>> msg.message_type, msg.trigger_event, msg.control_id, msg.get("PID-3[2].4")
('ADT', 'A01', 'MSG1', 'SSA')

Importing this module loads no other adapter. See ``docs/hl7v2.md``.
"""

from __future__ import annotations

from carecoord.display import bound_reprs as _bound_reprs
from carecoord.errors import (
    IssueCode,
    IssueSeverity,
    MalformedMessage,
    checked_classes,
    checked_exports,
)
from carecoord.hl7v2._er7 import (
    DEFAULT_ENCODING,
    Encoding,
    Field,
    Message,
    Segment,
    parse_location,
    parse_message,
    split_messages,
)

# --- MLLP transport (framing, ACKs, listener, client) --------------------------------
from carecoord.hl7v2._mllp_ack import (
    Ack,
    AckCode,
    ErrorCondition,
    Header,
    MLLPError,
    Outcome,
    build_ack,
    parse_ack,
    peek_header,
)
from carecoord.hl7v2._mllp_client import MLLPClient, send_mllp
from carecoord.hl7v2._mllp_frame import (
    END_BLOCK,
    START_BLOCK,
    FrameDecoder,
    FrameEvent,
    FrameFault,
    frame,
)
from carecoord.hl7v2._mllp_outcome import read_outcome
from carecoord.hl7v2._mllp_server import (
    BatchHandler,
    DedupeKey,
    DedupeStore,
    Handler,
    Inbound,
    MemoryDedupe,
    MLLPServer,
    ServerStats,
    serve_mllp,
)

# --- end of MLLP transport imports -----------------------------------------------------
from carecoord.hl7v2._read import SUPPORTED, Hl7ImportError, read
from carecoord.hl7v2._sources import deframe
from carecoord.interop import (
    DEFAULT_LIMITS,
    ImportIssue,
    ImportResult,
    Limits,
    ResourceCounts,
)

__all__ = [
    "DEFAULT_ENCODING",
    "DEFAULT_LIMITS",
    "END_BLOCK",
    "START_BLOCK",
    "SUPPORTED",
    "Ack",
    "AckCode",
    "BatchHandler",
    "DedupeKey",
    "DedupeStore",
    "Encoding",
    "ErrorCondition",
    "Field",
    "FrameDecoder",
    "FrameEvent",
    "FrameFault",
    "Handler",
    "Header",
    "Hl7ImportError",
    "ImportIssue",
    "ImportResult",
    "Inbound",
    "IssueCode",
    "IssueSeverity",
    "Limits",
    "MLLPClient",
    "MLLPError",
    "MLLPServer",
    "MalformedMessage",
    "MemoryDedupe",
    "Message",
    "Outcome",
    "ResourceCounts",
    "Segment",
    "ServerStats",
    "build_ack",
    "deframe",
    "frame",
    "parse_ack",
    "parse_location",
    "parse_message",
    "peek_header",
    "read",
    "read_outcome",
    "send_mllp",
    "serve_mllp",
    "split_messages",
]

_bound_reprs(globals()[name] for name in __all__)
checked_classes(
    globals(),
    (
        "Ack",
        "Encoding",
        "FrameDecoder",
        "FrameEvent",
        "Header",
        "Inbound",
        "MLLPClient",
        "MLLPServer",
        "MemoryDedupe",
        "Message",
        "Outcome",
        "ServerStats",
    ),
)
# The coroutine functions stay as they are: a checking wrapper would hide that they are.
checked_exports(globals(), skip=("send_mllp", "serve_mllp"))
del checked_classes, checked_exports
