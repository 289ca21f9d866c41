"""Agencies (行政機関・地方公共団体・保険者): intermediate servers (中間サーバー), copies, the query client."""
