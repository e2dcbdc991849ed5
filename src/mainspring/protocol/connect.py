"""Connect's wire messages: protobuf, framed as `ConnectMessage{kind, payload}` on a WebSocket
with the subprotocol `v0.connect.inngest.com`.

The message classes are the ones the official Python SDK ships (pinned `inngest==0.5.19`), as the
issue allows; every use goes through this module, so that generating our own from a `.proto` later
touches one file.
"""

from __future__ import annotations

from inngest.connect._internal import connect_pb2 as pb

SUBPROTOCOL = "v0.connect.inngest.com"
Kind = pb.GatewayMessageType

ConnectMessage = pb.ConnectMessage
StartRequest = pb.StartRequest
StartResponse = pb.StartResponse
WorkerConnectRequestData = pb.WorkerConnectRequestData
GatewayConnectionReadyData = pb.GatewayConnectionReadyData
GatewayExecutorRequestData = pb.GatewayExecutorRequestData
WorkerRequestAckData = pb.WorkerRequestAckData
WorkerRequestExtendLeaseData = pb.WorkerRequestExtendLeaseData
WorkerRequestExtendLeaseAckData = pb.WorkerRequestExtendLeaseAckData
SDKResponse = pb.SDKResponse
SDKResponseStatus = pb.SDKResponseStatus
WorkerReplyAckData = pb.WorkerReplyAckData
FlushResponse = pb.FlushResponse


def frame(kind: int, payload: bytes = b"") -> bytes:
    return ConnectMessage(kind=kind, payload=payload).SerializeToString()  # type: ignore[arg-type]


def unframe(data: bytes) -> pb.ConnectMessage:
    message = ConnectMessage()
    message.ParseFromString(data)
    return message
