"""The kernel every context stands on: settings, DynamoDB and RDB wiring, web plumbing, events,
DynamoDB's size and capacity rules and the access-pattern registry."""

__doc_ja__ = """すべてのコンテキストが土台にするカーネル: 設定、DynamoDB と RDB の配線、Web
まわり、イベント、言語、DynamoDB の項目サイズとキャパシティのルール、アクセスパターンの登録簿。
"""
