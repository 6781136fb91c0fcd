"""A toy retrieval-augmented system for the quickstart: word-overlap search over eight tiny
documents, then the best document's answer phrase. It reports retrieval and generation time
separately, the way a real RAG system would, so the latency chart can split them."""

import asyncio
import re
import time

from harness.types import Response, RetrievedChunk, Timings, Usage

DOCS = {
    "warranty.md": ("Every Lumen bike frame has a warranty of 5 years.", "5 years"),
    "returns.md": ("Unused bikes can be returned within 30 days of delivery.", "30 days"),
    "shipping.md": ("Shipping to any address inside the EU takes 4 days.", "4 days"),
    "service.md": ("A free first service is included after 3 months of riding.", "after 3 months"),
    "battery.md": ("The e-bike battery gives a range of 80 km on one charge.", "80 km"),
    "charging.md": ("Charging the battery from empty to full takes 4 hours.", "4 hours"),
    "weight.md": ("With its battery the City e-bike weighs 21 kg.", "21 kg"),
    "colours.md": ("The City model is sold in teal, sand and black.", "teal, sand and black"),
}


def words(text):
    return {w for w in re.findall(r"[a-z0-9-]+", text.lower()) if len(w) > 3}


async def answer(example, top_k=2):
    started = time.perf_counter()
    await asyncio.sleep(0.005)  # stands in for a vector search
    query = words(example.input)
    ranked = sorted(DOCS, key=lambda d: -len(query & words(DOCS[d][0])))[:top_k]
    retrieval_s = time.perf_counter() - started
    await asyncio.sleep(0.04)  # stands in for the generation call
    best = ranked[0]
    text = DOCS[best][1] if query & words(DOCS[best][0]) else "I don't know."
    chunks = [RetrievedChunk(chunk_id=f"{d}#0", doc_id=d, text=DOCS[d][0], rank=n) for n, d in enumerate(ranked, 1)]
    total_s = time.perf_counter() - started
    return Response(
        text=text, retrieved=chunks, usage=Usage(input_tokens=60, output_tokens=4), cost_usd=0.00002,
        timings=Timings(total_s=total_s, retrieval_s=retrieval_s, generation_s=total_s - retrieval_s), model="toy-rag",
    )
