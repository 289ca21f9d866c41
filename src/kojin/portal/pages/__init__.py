"""The portal's pages (マイナポータルの画面), one module per part of the portal.

Each module builds the APIRouter of one part (login, わたしの情報, やりとり履歴,
公金受取口座, 代理人, カード, お知らせ, 利用履歴, 職員の閲覧記録, データの書き出し) from the
:class:`~kojin.portal.pages.kit.PageKit` they share; :func:`kojin.portal.views.make_router`
mounts them all at ``/portal``.
"""
