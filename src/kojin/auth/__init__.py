"""Card authentication for relying parties (利用者証明): portal, clinics, kiosks."""
