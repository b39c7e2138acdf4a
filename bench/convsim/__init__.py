"""Scripted multi-turn customers driven through the real gateway (``bench/conversations.py``).

Modules: :mod:`.loader` (the YAML conversations), :mod:`.world` (the CRM they run against),
:mod:`.customer` (what a scripted customer says next), :mod:`.driver` (one conversation over
the widget's WebSocket), :mod:`.checks` (each goal checked in the CRM), :mod:`.report` (rates,
failure list, docs section), :mod:`.run` (all of it), :mod:`.split` (the locked third, dealt
once).
"""
