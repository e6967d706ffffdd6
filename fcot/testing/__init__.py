"""Test doubles that run for real: a local OpenAI-compatible HTTP server (:mod:`fcot.testing.server`)."""

from fcot.testing.server import FakeOpenAIServer, Faults, echo_responder

__all__ = ["FakeOpenAIServer", "Faults", "echo_responder"]
