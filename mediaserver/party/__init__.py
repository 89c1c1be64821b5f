"""Watch parties (issue 5): a host-authoritative timeline shared over Socket.IO.

Pure core: `model.py` (the data), `commands.py` (events parsed into typed commands), `state.py` and
`queue.py` (the state machine). Use cases: `store.py` (Redis, with the database as its durable copy),
`access.py` (parties, participants, tokens), `service.py` (what the socket handlers call). The
transport is `web/party_socket.py`, the HTTP routes `web/parties.py`.
"""
