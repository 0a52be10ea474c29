"""What happens to sessions and tasks, whoever asks: the lifecycle of a task (lifecycle.py,
the only place a task changes hands), one run of it (taskrun/), where runs happen (worker.py,
executors/), the simulated human (human.py), tests and how a round is judged (testrun/,
validation.py, judging.py), the confinement of workspace code (confinement.py, sandbox.py,
agent_env.py, process_limit.py, service_bridge.py), workspaces (workspace/, and what a
person does with one: task_workspace.py, deletion.py, retention.py), new sessions
(sessions.py), review comments that go back to the agent (comments/), money and credentials
(spending.py, credentials.py), webhooks (webhooks.py, their formats webhook_formats.py). It drives
agent/ and persistence/ and consults policy/; it never imports the API.
"""
