"""Record linkage (個人番号取得のための基本4情報照合): match, review, audit.

J-LIS runs the matching service: an agency that lacks a person's number sends
the four basic items (基本4情報) and gets back its own code (機関別符号) or a
decision not to link; everything not unique and certain goes to a clerk's
review queue, and an integrity audit (総点検) re-checks every link made.
"""
