"""The card-reader software (カードリーダー), served at ``/reader``."""
