"""The information-linkage hub (情報提供ネットワークシステム): codes, the permitted table, routing."""
