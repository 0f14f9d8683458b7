"""bao: train and evaluate proactive LLM agents with Behavioral Agentic Optimization."""

__version__ = "0.1.0"
