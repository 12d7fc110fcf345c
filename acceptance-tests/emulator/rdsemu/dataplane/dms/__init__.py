"""The emulated DMS data plane: tasks that really move rows (``--data-plane`` only).

``runner.TaskRun`` does the work of one running task; ``config`` reads what the task and
its endpoints say; ``sides`` speaks each engine's SQL and reads its change log;
``wiring`` connects both to ``dms_patch`` / ``cloudwatch_patch``.
"""
