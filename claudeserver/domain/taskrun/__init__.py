"""One task run, from start to end (run.py's `TaskRun`, which the executors start).

What it works with is resolved once (context.py) and prepared once (workbench.py: the
workspace of workspace.py, the sandbox, the test runner, the baseline, the policy); the
conversation with the agent (conversation.py) passes each answer through the test gate
(testgate.py) and ends in the optional review (review.py) and a commit; every write about
the run goes through its journal (journal.py).
"""

from claudeserver.domain.taskrun.run import WORKER_NAME, TaskRun

__all__ = ["WORKER_NAME", "TaskRun"]
