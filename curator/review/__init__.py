"""`curate review`: an interactive terminal review of datasets and badcase queues.

Only `curator.review.app` imports Textual. Everything else here (the line index, the decision
store, the session model, rendering to Rich text, export) is plain Python, so `curate review
export` and the tests of the model run without a terminal, and `import curator` never pulls
Textual in.
"""
