"""Connect's wire messages: protobuf, framed as `ConnectMessage{kind, payload}` on a WebSocket
with the subprotocol `v0.connect.inngest.com`.

The message classes are the ones the official Python SDK ships (pinned `inngest==0.5.19`), as the
issue allows; every use goes through this module, so that generating our own from a `.proto` later
touches one file. The TypeScript SDK speaks a newer revision of the protocol, with two additions
the Python package does not ship yet: `GatewayConnectionReadyData.status_interval` (field 3) and
`WORKER_STATUS` (kind 15) carrying `WorkerStatusData`. Those two messages are declared below with
protobuf's own descriptor API (same field numbers and types, so the bytes are the protocol's).
"""

from __future__ import annotations

from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from inngest.connect._internal import connect_pb2 as pb

SUBPROTOCOL = "v0.connect.inngest.com"
Kind = pb.GatewayMessageType
WORKER_STATUS = 15  # the TypeScript SDK's periodic report (not in the Python SDK's enum)

ConnectMessage = pb.ConnectMessage
StartRequest = pb.StartRequest
StartResponse = pb.StartResponse
WorkerConnectRequestData = pb.WorkerConnectRequestData
GatewayExecutorRequestData = pb.GatewayExecutorRequestData
WorkerRequestAckData = pb.WorkerRequestAckData
WorkerRequestExtendLeaseData = pb.WorkerRequestExtendLeaseData
WorkerRequestExtendLeaseAckData = pb.WorkerRequestExtendLeaseAckData
SDKResponse = pb.SDKResponse
SDKResponseStatus = pb.SDKResponseStatus
WorkerReplyAckData = pb.WorkerReplyAckData
FlushResponse = pb.FlushResponse


def _newer_messages() -> tuple[Any, Any]:
    """GatewayConnectionReadyData with `status_interval`, and WorkerStatusData."""
    string, boolean = (
        descriptor_pb2.FieldDescriptorProto.TYPE_STRING,
        descriptor_pb2.FieldDescriptorProto.TYPE_BOOL,
    )
    optional, repeated = (
        descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL,
        descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED,
    )
    file = descriptor_pb2.FileDescriptorProto(
        name="mainspring/connect_newer.proto", package="mainspring.connect", syntax="proto3"
    )
    ready = file.message_type.add(name="GatewayConnectionReadyData")
    for number, name in enumerate(("heartbeat_interval", "extend_lease_interval"), start=1):
        ready.field.add(name=name, number=number, type=string, label=optional)
    ready.field.add(name="status_interval", number=3, type=string, label=optional)
    status = file.message_type.add(name="WorkerStatusData")
    status.field.add(name="in_flight_request_ids", number=1, type=string, label=repeated)
    status.field.add(name="shutdown_requested", number=2, type=boolean, label=optional)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return (
        message_factory.GetMessageClass(
            pool.FindMessageTypeByName("mainspring.connect.GatewayConnectionReadyData")
        ),
        message_factory.GetMessageClass(
            pool.FindMessageTypeByName("mainspring.connect.WorkerStatusData")
        ),
    )


GatewayConnectionReadyData, WorkerStatusData = _newer_messages()


def frame(kind: int, payload: bytes = b"") -> bytes:
    return ConnectMessage(kind=kind, payload=payload).SerializeToString()  # type: ignore[arg-type]


def unframe(data: bytes) -> pb.ConnectMessage:
    message = ConnectMessage()
    message.ParseFromString(data)
    return message
