"""Presigned transfers (docs/runs-api.md "Presigned transfers"): with an S3 store, blob bytes go between
the client and the bucket; these endpoints plan such transfers and verify what arrived.

`POST /uploads` answers the plans of an upload's missing blobs itself (its `transfers`); `POST
/blobs/transfers` plans blobs learnt missing elsewhere, and `POST /blobs/<sha256>/complete` has EM check the
bytes in the bucket before the blob counts as the caller's. The services are em.services.transfers.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from em.services import transfers
from em.strict import StrictSerializer

BLOB_STORED = inline_serializer("BlobStored", {"sha256": serializers.CharField(), "size": serializers.IntegerField()})
_TRANSFER = inline_serializer(
    "BlobTransfer",
    {
        "transfer": serializers.CharField(help_text="This transfer's id: send it back to /complete."),
        "size": serializers.IntegerField(),
        "part_size": serializers.IntegerField(help_text="Bytes of each part but the last."),
        "upload_id": serializers.CharField(allow_null=True, help_text="The S3 multipart upload; null: one PUT."),
        "urls": serializers.ListField(child=serializers.URLField(), help_text="PUT part n's bytes to urls[n-1]."),
    },
)
TRANSFERS = serializers.DictField(
    child=_TRANSFER,
    help_text="digest → presigned transfer plan, when blobs go straight to the S3 bucket; a missing digest not "
    "listed here is PUT to /blobs/{sha256}.",
)


class TransferPlansSerializer(StrictSerializer):
    blobs = serializers.JSONField(help_text='[{"sha256", "size"}]: the blobs you are about to send.')


class BlobTransfersView(APIView):
    @extend_schema(
        request=TransferPlansSerializer,
        responses={200: inline_serializer("BlobTransfers", {"transfers": TRANSFERS})},
        summary="How to send these blobs: presigned S3 URLs, or (none listed) PUT to EM",
        description="For blobs learnt missing outside `POST /uploads` (an asset's staged files). Blobs you own "
        "already are left out; with `EM_STORAGE=file` the answer is always empty.",
    )
    def post(self, request: Request) -> Response:
        data = TransferPlansSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response({"transfers": transfers.plans_for(request.user, data.validated_data["blobs"])})


class BlobCompleteSerializer(StrictSerializer):
    transfer = serializers.CharField(help_text="The plan's `transfer`.")
    upload_id = serializers.CharField(required=False, allow_null=True, help_text="The plan's `upload_id`.")
    parts = serializers.JSONField(required=False, help_text='[{"part_number", "etag"}], each part as S3 answered.')


class BlobCompleteView(APIView):
    @extend_schema(
        request=BlobCompleteSerializer,
        responses={201: BLOB_STORED, 200: BLOB_STORED},
        summary="Finish a presigned transfer: the bytes in the bucket are verified, then the blob is yours",
        description="EM joins the parts (multipart), reads the object back and checks size and SHA-256; a "
        "mismatch deletes it (400 `digest_mismatch`), nothing sent yet is 409 `blob_not_sent`.",
    )
    def post(self, request: Request, sha256: str) -> Response:
        data = BlobCompleteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        received = transfers.finish(
            sha256, by=request.user, transfer=v["transfer"], upload_id=v.get("upload_id"), parts=v.get("parts")
        )
        assert received.blob is not None  # noqa: S101  # finish answers a whole blob or raises
        code = status.HTTP_201_CREATED if received.created else status.HTTP_200_OK
        return Response({"sha256": sha256, "size": received.blob.size}, status=code)
