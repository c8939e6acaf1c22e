"""The weekly digest for marketing (issue 6): figures by SQL, charts, HTML and text, SMTP.

Entry points: `monitor.digest.service.send_due_digest` (the scheduler's job),
`monitor.digest.cli.add_digest_command` (the `brandmon digest` command). Kept empty so that
importing the package does not load matplotlib.
"""
