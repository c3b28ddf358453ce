"""The chief's oracle server for a distributed search: KerasTuner's own servicer, watched until the search ends.

KerasTuner's `Tuner.search` on the chief serves the oracle too, but once a worker has been told to stop it checks
for the others' end only every 20 seconds, which would hold the results back up to 20 s after the last trial. This
module is the one place rnnkit reaches into KerasTuner's internals (`keras_tuner.src.distribute`), for that loop.
"""
from concurrent import futures
import os
import time

import grpc
from keras_tuner.src import protos
from keras_tuner.src.distribute import oracle_chief, utils

POLL_SECONDS = 0.2  # how soon after the last worker stops the chief goes on to write the results


def is_chief():
    """Whether this process is a distributed search's chief (KerasTuner's rule on its environment variables)."""
    return utils.is_chief_oracle()


def serve(tuner):
    """Serve `tuner`'s oracle at KERASTUNER_ORACLE_IP:PORT until every trial and every worker has finished."""
    tuner.oracle.verbose = 0
    tuner.save()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    servicer = oracle_chief.OracleServicer(tuner.oracle)
    protos.get_service_grpc().add_OracleServicer_to_server(servicer, server)
    server.add_insecure_port(f"{os.environ['KERASTUNER_ORACLE_IP']}:{os.environ['KERASTUNER_ORACLE_PORT']}")
    server.start()
    try:
        # A worker asking for a trial once the budget is spent sets stop_triggered; the search is over when no
        # trial is running and every worker has asked (KerasTuner's own exit rule, `exit_chief`).
        while not (servicer.stop_triggered and oracle_chief.exit_chief(tuner.oracle)):
            time.sleep(POLL_SECONDS)
    finally:
        server.stop(grace=None)
