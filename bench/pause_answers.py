"""The pause set's answers: each with the question it answers (the end of turn may weigh an
open question), in the group it belongs to (``bench.pauses``: the set the rules were made on,
and the groups held out from each rule, written before it was measured)."""

from __future__ import annotations

MID_SENTENCE = (
    ("How did you run the checkout service?",
     "We ran everything on Kubernetes in AWS,", "and I set up Prometheus alerts for checkout."),
    ("Why did the migration take so long?",
     "The main reason the migration took so long was,", "that nobody owned the billing code."),
    ("How did you find out what was slow?",
     "I started by measuring where the time went and,", "most of it was spent serialising JSON."),
    ("Tell me about an incident you handled.",
     "When the queue backed up,", "we added idempotency keys so that retries were safe."),
    ("Tell me about a time you disagreed with your manager.",
     "My manager wanted it shipped on Friday but,", "I pushed back because the tests failed."),
    ("What would you do differently?",
     "So what I would do differently is,", "write the runbook before the launch."),
    ("What was the impact of your work?",
     "We cut the p99 latency from four hundred milliseconds,", "to about ninety."),
    ("What was the hardest part of that project?",
     "The hardest part of that project was,", "convincing the other team to change their API."),
    ("What is the trade-off in that design?",
     "I think the trade-off there is between,", "consistency and availability."),
    ("Tell me about your background.",
     "Before that I worked at a small startup where,", "I was the only backend engineer."),
)  # fmt: skip
BETWEEN_SENTENCES = (
    ("Tell me about a project you led.",
     "I led the migration to Postgres.", "It took three months and we had no downtime."),
    ("Describe a hard bug you fixed.",
     "We had a race condition in checkout.", "I fixed it with a row lock and a retry."),
    ("How did you improve performance?",
     "The first version was too slow.", "So I added a Redis cache in front of it."),
    ("Tell me about a disagreement with a colleague.",
     "I disagreed with the design.", "I wrote down the risks and we met to discuss them."),
)  # fmt: skip
COMPLETE = (
    ("Tell me about a project you are proud of.",
     "I led the migration of our order service from MySQL to Postgres without any downtime."),
    ("Have you used Kafka?",
     "Yes. I have used Kafka for three years, mostly for event sourcing in payments."),
    ("How would you approach a new product area?",
     "I would start by asking what the users actually need, then measure before changing code."),
    ("What did your work achieve?",
     "We reduced the error rate from two percent to almost nothing in one quarter."),
    ("Which languages do you use most?",
     "Mostly Python and Go, with some TypeScript on the front end."),
    ("What did you do for reliability?",
     "I set up the on-call rotation and wrote the first incident runbooks for the team."),
    ("What was the outcome?", "The outcome was that checkout latency dropped by forty percent."),
    ("Have you run Kubernetes in production?",
     "No, I have not worked with Kubernetes in production yet, only in side projects."),
)  # fmt: skip
# Held out: written after the short-answer rule (endpoint.py, ``finished``), to see it on
# answers it was not made from: thinking pauses after a long whole clause (which the rule
# cannot catch), and short finished answers to closed and to open questions (which it makes
# wait). Reported apart from the set above.
HELD_OUT_MID_SENTENCE = (
    ("Tell me about your last role.",
     "I was the tech lead for the payments team at my last company for two years,",
     "and before that I worked on fraud detection."),
    ("Describe an outage you handled.",
     "The primary database ran out of disk space on a Friday evening,",
     "so we failed over to the replica."),
    ("How did you test it?",
     "We wrote contract tests for every service,", "and ran them on each pull request."),
    ("What did you learn from it?",
     "I learned that,", "small releases are much easier to roll back."),
)  # fmt: skip
HELD_OUT_COMPLETE = (
    ("Have you used Kafka?", "Yes, I have."),
    ("How many years of Python do you have?", "About six years."),
    ("What is your notice period?", "One month."),
    ("Tell me about a time you failed.", "I can't think of one."),
    ("Why do you want this job?", "Because I love building payment systems."),
)
# Held out too, written with the unsure-pause rule (endpoint.py, ``settled``) and before it
# was measured: finished answers of two sentences, which it lets end sooner, and thinking
# pauses inside a second sentence, which it could cut.
LONGER_COMPLETE = (
    ("Tell me about a project you led.",
     "I led the move to Postgres. It took three months and we had no downtime."),
    ("How did you find the slow query?",
     "I ran explain analyze on it. The planner was doing a sequential scan, so I added an index."),
    ("What happened in the outage?",
     "The disk filled up on the primary. We failed over to the replica and cleaned up the logs."),
    ("Why do you want this role?",
     "I like building payment systems. Your team works on the problems I want to solve next."),
)  # fmt: skip
LONGER_MID_SENTENCE = (
    ("Tell me about a project you led.",
     "I led the move to Postgres. It took three months,", "and we had no downtime."),
    ("How did you find the slow query?",
     "I ran explain analyze on it. The planner was doing a sequential scan,",
     "so I added an index on the customer column."),
    ("What happened in the outage?",
     "The disk filled up on the primary. We failed over to the replica,",
     "and then we cleaned up the old logs."),
    ("Why do you want this role?",
     "I like building payment systems. And the main reason is,",
     "that your team works on the problems I want to solve next."),
)  # fmt: skip
# Held out too, written before the thin-answer rule (endpoint.py, ``thin_answer``) was built
# or measured: thinking pauses deeper into longer answers (after 7 to 35 words, where a rule
# on the length of the answer so far stops helping), and finished answers of 13 to 26 words,
# mostly to open questions (which such a rule makes wait).
LATER_MID_SENTENCE = (
    ("Tell me about a time you improved a process.",
     "Our releases used to take a whole day because every step was manual,",
     "so I wrote a pipeline that deploys on every merge."),
    ("How do you handle on-call?",
     "I keep the alerts few and actionable,",
     "and every page gets a short review the next morning."),
    ("Describe a technical decision you regret.",
     "We chose a document database for the order history because it was quick to start with. "
     "Two years later every report needed joins,",
     "and we spent a quarter moving back to Postgres."),
    ("Tell me about your most recent project.",
     "For the last year I have been building the ingestion service for our analytics platform. "
     "It reads events from Kafka, checks them against a schema registry, and writes them to S3 "
     "as Parquet,",
     "which cut our storage costs by about a third."),
    ("How did you mentor junior engineers?",
     "I paired with each new engineer for their first two weeks, and we shipped one small "
     "ticket a day together. After that we moved to weekly one to ones,",
     "where we went through their code reviews."),
    ("What would you change about your current team?",
     "I would make the planning meetings a lot shorter,",
     "and put that time into writing design documents."),
)  # fmt: skip
LATER_COMPLETE = (
    ("Tell me about a time you improved a process.",
     "Our releases took a whole day, so I wrote a pipeline that deploys every merge in ten "
     "minutes."),
    ("How do you handle on-call?",
     "I keep alerts few and actionable, and every page gets a written review the next morning."),
    ("Describe a technical decision you regret.",
     "We picked a document database for order history. Two years later every report needed "
     "joins, so we moved back to Postgres, which took a quarter."),
    ("What motivates you at work?",
     "Shipping things people actually use. I like seeing the metrics move after a release, and "
     "hearing from support that a problem has gone away."),
    ("Do you have experience with Terraform?",
     "Yes, I have managed our AWS accounts with Terraform for about two years."),
)  # fmt: skip
