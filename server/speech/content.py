"""What Teddy says: the stories, jokes, songs and explanations the responder picks from.

Owns only words, grouped by age band (3-5 "young", 6-9 "middle", 10-13 "older") so the
same question gets a simpler answer for a younger child. Every text is gentle, ends on
a positive note and is well under the 300-character reply limit even after a name is
added (the responder tests check each one). No text here repeats anything the child
said; that is the responder's job and it only ever echoes a screened name or animal.
"""

from __future__ import annotations

from typing import Literal

AgeBand = Literal["young", "middle", "older"]

REDIRECT = "Let's talk about something else! What's your favorite animal?"
PRIVATE_PREFACE = (
    "That sounds like private information. Keep it safe and only share it with a grown-up "
    "you trust. "
)
SELF_HARM = (
    "I'm really glad you told me. Please tell a grown-up you trust, like a parent or "
    "teacher, right away. They care about you and can help."
)
NOT_HEARD = "I didn't quite hear you. Can you say that again?"

UNKNOWN = (
    "Tell me more! I love hearing your ideas, {name}.",
    "Ooh, that sounds interesting! Tell me more!",
    "Wow! Can you tell me more about that?",
)

STORIES: dict[AgeBand, tuple[str, ...]] = {
    "young": (
        "Once upon a time, a little bunny named Pip found a shiny red apple. Pip shared it "
        "with Duck and Mouse, and they had a picnic in the sunshine. Sharing made everyone "
        "smile. The end!",
        "Once upon a time, a sleepy star wanted to play. The moon said, let's play hide and "
        "seek in the clouds! They giggled all night, and in the morning the star yawned and "
        "went to sleep. The end!",
        "Once upon a time, a small teddy bear lost his hat. Kitty helped him look under the "
        "bed, behind the chair and in the garden. There it was, on a happy snail! The end!",
    ),
    "middle": (
        "Once upon a time, a young fox named Fern wanted to find where the river began. She "
        "followed it past singing frogs and tall pines, up a mountain, to a tiny spring. "
        "Fern learned that big things often start small. The end!",
        "Once there was a robot named Bolt who could not dance. Every evening he practised "
        "with a patient parrot. He tripped, laughed and tried again. At the fair, Bolt "
        "danced the happiest dance anyone had seen. The end!",
        "Once upon a time, a shy cloud named Nimbus was afraid to rain. But the flowers "
        "below were thirsty, so Nimbus took a deep breath and sprinkled them. The garden "
        "bloomed, and Nimbus felt proud. The end!",
    ),
    "older": (
        "Long ago, a lighthouse keeper's daughter named Ada saw the lamp failing in a storm. "
        "She remembered a spare lens in the cellar, fixed the light by lantern glow, and "
        "every ship came home safely. Calm, clever thinking saved the night. The end!",
        "Once there was a robot named Bolt who could not dance. Every evening he practised "
        "with a patient parrot. He tripped, laughed and tried again. At the fair, Bolt "
        "danced the happiest dance anyone had seen. The end!",
        "A young explorer named Theo mapped the caves behind his village. Deep inside he "
        "found glowing crystals and a stream no one knew about. He shared his map so "
        "everyone could visit safely, with a grown-up and a good torch. The end!",
    ),
}

JOKES = (
    "Why did the teddy bear say no to dessert? Because she was already stuffed!",
    "What do you call a sleeping dinosaur? A dino-snore!",
    "Why do cows wear bells? Because their horns don't work!",
    "What is a cat's favorite color? Purr-ple!",
    "Why did the banana go to the doctor? It wasn't peeling well!",
    "What do you call a bear with no teeth? A gummy bear!",
)

SONGS: dict[AgeBand, tuple[str, ...]] = {
    "young": (
        "Twinkle, twinkle, little star, how I wonder what you are! Up above the world so "
        "high, like a diamond in the sky!",
        "The itsy bitsy spider climbed up the water spout. Down came the rain and washed "
        "the spider out!",
    ),
    "middle": (
        "Row, row, row your boat, gently down the stream. Merrily, merrily, merrily, "
        "merrily, life is but a dream! Want to sing it with me?",
        "Twinkle, twinkle, little star, how I wonder what you are! Can you sing the next "
        "line with me?",
    ),
    "older": (
        "Row, row, row your boat, gently down the stream. Merrily, merrily, merrily, "
        "merrily, life is but a dream! Let's sing it as a round: you start!",
    ),
}

SKY: dict[AgeBand, str] = {
    "young": "The sky looks blue because sunlight bounces around in the air, and blue light "
    "bounces the most! So we see blue everywhere.",
    "middle": "Sunlight is made of all the colors. When it hits the tiny bits of air, blue "
    "light gets bounced around much more than the others, so blue comes at us from all over "
    "the sky!",
    "older": "Sunlight holds every color. Air molecules scatter short wavelengths like blue "
    "far more than long ones like red. That's called Rayleigh scattering, so scattered blue "
    "light reaches your eyes from every direction.",
}

RAINBOWS: dict[AgeBand, str] = {
    "young": "Rainbows happen when the sun shines through raindrops! The raindrops split the "
    "sunlight into lots of pretty colors.",
    "middle": "When sunlight shines through raindrops, each drop bends the light and splits "
    "it into red, orange, yellow, green, blue, indigo and violet. Look for one with the sun "
    "behind you after rain!",
    "older": "Each raindrop acts like a tiny prism. Sunlight bends as it enters the drop, "
    "reflects off the back and bends again on the way out. Each color bends a different "
    "amount, so the light fans out into a rainbow.",
}

SAD: dict[AgeBand, str] = {
    "young": "Oh no, I'm sorry you feel sad, {name}. Here is a big, soft teddy hug! "
    "Can you tell a grown-up how you feel? They can help too.",
    "middle": "I'm sorry you're feeling sad, {name}. It's okay to feel that way. Want a "
    "teddy hug? Talking to a grown-up you trust can help you feel better.",
    "older": "I'm sorry you're feeling down, {name}. Feelings like that are okay and they "
    "do pass. Talking with someone you trust, like a parent or teacher, can really help.",
}

SCARED: dict[AgeBand, str] = {
    "young": "It's okay, {name}. I'm right here with you. Let's take a big slow breath "
    "together. You can always ask a grown-up for a hug.",
    "middle": "It's okay to feel scared sometimes, {name}. Let's breathe in slowly and out "
    "slowly. A grown-up you trust can help you feel safe.",
    "older": "Feeling scared is normal, {name}, and it's brave to say so. Try a few slow "
    "breaths, and tell a grown-up you trust what's worrying you.",
}

ANIMAL_SOUNDS = {
    "cow": "moo",
    "dog": "woof",
    "cat": "meow",
    "duck": "quack",
    "pig": "oink",
    "sheep": "baa",
    "horse": "neigh",
    "lion": "roar",
    "owl": "hoo hoo",
    "frog": "ribbit",
    "bee": "buzz",
    "chicken": "cluck",
    "mouse": "squeak",
    "bird": "tweet",
    "snake": "hiss",
}

# fmt: off
NUMBER_WORDS = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen", "twenty",
)
# fmt: on
