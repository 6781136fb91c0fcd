"""Test doubles that ship with the harness: a fake OpenAI-compatible server for the hosted path."""
