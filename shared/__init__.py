"""The kernel every context stands on: settings, DynamoDB and RDB wiring, web plumbing, events."""

__doc_ja__ = """すべてのコンテキストが土台にするカーネル: 設定、DynamoDB と RDB の配線、Web
まわり、イベント、言語。
"""
