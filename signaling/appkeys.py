"""Typed aiohttp application state shared by the HTTP handlers."""

from __future__ import annotations

from aiohttp import web

from signaling.config import Config
from signaling.datadir import NodeIdentity
from signaling.extensions import Extensions
from signaling.node import Node

CONFIG = web.AppKey("config", Config)
IDENTITY = web.AppKey("identity", NodeIdentity)
REDIS_URL = web.AppKey("redis_url", str)
NODE = web.AppKey("node", Node)
EXTENSIONS = web.AppKey("extensions", Extensions)
