"""The KB worker: the knowledge base's lifecycle, in its own process (``python -m worker``).

Trainers edit the KB in the CRM; the trainer console only queues a rebuild request
(``crm.repo.kb_jobs``). The worker takes requests one at a time (:mod:`worker.loop`), exports the
CRM's published entries, builds and publishes the index, fine-tuning the encoder as ``kb`` does
(:mod:`worker.rebuild`), and records each stage on the request. The gateway and the action server
serve the new build without a restart (:mod:`kbaccess`). :mod:`worker.kbsync` moves the KB
between the CRM and KB files (``import-if-empty``, ``export``). Top layer: it imports ``kb``,
``crm``, ``kbaccess`` and ``common``; nothing imports it.
"""
