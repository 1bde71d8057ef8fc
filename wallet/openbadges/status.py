"""Revocation and status: OB 2.0 RevocationList, 1EdTechRevocationList, BitstringStatusList.

CONTRACT (pure):
- `revocation_list_entry(list_doc: dict, assertion_id: str, uid: str | None) -> dict | None`
  (OB 2.0 `revokedAssertions`: id strings or {id|uid, revocationReason}).
- `onedtech_revoked(list_doc: dict, credential_id: str) -> dict | None` (`revokedCredential` or
  `revokedCredentials`, entries {id, revoked?, revocationReason?}).
- `bitstring_bit(encoded_list: str, index: int) -> bool` (multibase 'u' base64url of gzip, MSB
  first; caps the decompressed size), `encode_bitstring(bits: set[int], size: int = 131072) -> str`.
"""
