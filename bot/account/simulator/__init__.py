"""An in-memory account-API simulator that speaks the platform's wire format (wechat-api.md):
tokens, uploads, drafts, freepublish jobs, mass sends, quotas, event pushes and faults."""

from bot.account.simulator.app import RunningSimulator, build_app, run_forever, start_simulator
from bot.account.simulator.config import SimulatorConfig, simulator_config_from_args
from bot.account.simulator.state import Simulator

__all__ = [
    "RunningSimulator",
    "Simulator",
    "SimulatorConfig",
    "build_app",
    "run_forever",
    "simulator_config_from_args",
    "start_simulator",
]
