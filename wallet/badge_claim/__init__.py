"""Claiming a regional badge: the Region's issuer backends behind one interface.

    from wallet.badge_claim.model import ClaimRequest, DeliveryResult, Evidence
    from wallet.badge_claim.issuers import backend_for
    result = backend_for(app).deliver(request)

`model.py` is pure (dataclasses, no Flask); `issuers/` holds the builtin issuer (the wallet signs
OB 3.0 credentials itself) and the clients of two remote issuers (Open Badge Factory, Badgr).
"""
