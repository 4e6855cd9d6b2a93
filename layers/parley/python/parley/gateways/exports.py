"""A client's data export in S3 (LC-3): written whole, encrypted, under the client's own prefix,
expired by the bucket's lifecycle rule (infra/wiring.py EXPORTS_BUCKET), and handed out as a
short-lived presigned GET URL — the export route stays authenticated and tenant-scoped, the URL
names one object of the caller's client and stops working after `URL_LIFETIME`."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from parley import aws

URL_LIFETIME = timedelta(minutes=15)


@dataclass(frozen=True)
class StoredExport:
    key: str
    bytes: int
    download_url: str
    expires_at: datetime


class S3Exports:
    def __init__(self, bucket: str) -> None:
        self._bucket = bucket

    def save(self, client_id: str, document: dict[str, Any], now: datetime) -> StoredExport:
        body = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
        stamp = now.strftime("%Y%m%dT%H%M%SZ")
        key = f"{client_id}/parley-export-{stamp}-{secrets.token_hex(8)}.json"
        s3 = aws.s3()
        s3.put_object(Bucket=self._bucket, Key=key, Body=body, ContentType="application/json",
                      ServerSideEncryption="AES256",
                      ContentDisposition=f'attachment; filename="parley-export-{client_id}.json"')
        url = s3.generate_presigned_url("get_object", Params={"Bucket": self._bucket, "Key": key},
                                        ExpiresIn=int(URL_LIFETIME.total_seconds()))
        return StoredExport(key=key, bytes=len(body), download_url=url, expires_at=now + URL_LIFETIME)
