"""The feedback report: evidence measured from the transcript, the score, and the text.

``evidence`` measures (with ``lexicon``'s word lists), ``rubric`` scores, ``writeup`` writes
points from the evidence, ``notes`` has the model review each answer, ``compose`` turns
evidence and notes into the report, ``service`` loads and stores it. Thresholds live in
``limits``.
"""
