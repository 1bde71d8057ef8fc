"""Adapters to remote systems the wallet imports from (partner backpacks).

They talk to the network only through the SafeHttp instance they are given, and know nothing of
the database: the use cases in wallet/services/ own the transactions.
"""
