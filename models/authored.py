"""Sentences we wrote ourselves about identity groups and people, for training and probing.

Every template here was written for this repository (none is copied from a
public test suite or data set). A template is filled with each identity group
(or each first name) and carries labels for our six categories and the decision
a moderator would want (approve or hold). Each family's templates alternate
between two halves, **by template**: even positions train, odd positions probe,
so the probe measures how the model does on sentence shapes it never saw, not
on the same sentence with another group in it. The training half also takes the
training-only templates of `models.authored_training` (more shapes per family,
written without the probe half in view); the probe half is only what is here.

    from models.authored import examples
    examples("train")   # [AuthoredExample(text, family, group, labels, hold), ...]
    examples("probe")
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from models.authored_training import TEMPLATES as TRAINING_ONLY
from models.labels import CATEGORIES

Half = Literal["train", "probe"]


@dataclass(frozen=True)
class Group:
    """An identity group as sentences name it: adjective ("Muslim") and plural noun ("Muslims")."""

    key: str
    adj: str
    people: str
    article: str = "a"  # "a Muslim", "an atheist"


GROUPS: tuple[Group, ...] = (
    Group("gay", "gay", "gay people"),
    Group("lesbian", "lesbian", "lesbians"),
    Group("bisexual", "bisexual", "bisexual people"),
    Group("transgender", "transgender", "transgender people"),
    Group("queer", "queer", "queer people"),
    Group("straight", "straight", "straight people"),
    Group("muslim", "Muslim", "Muslims"),
    Group("jewish", "Jewish", "Jews"),
    Group("christian", "Christian", "Christians"),
    Group("hindu", "Hindu", "Hindus"),
    Group("sikh", "Sikh", "Sikhs"),
    Group("atheist", "atheist", "atheists", "an"),
    Group("black", "Black", "Black people"),
    Group("white", "white", "white people"),
    Group("asian", "Asian", "Asian people", "an"),
    Group("latino", "Latino", "Latinos"),
    Group("arab", "Arab", "Arabs", "an"),
    Group("mexican", "Mexican", "Mexicans"),
    Group("chinese", "Chinese", "Chinese people"),
    Group("immigrant", "immigrant", "immigrants", "an"),
    Group("refugee", "refugee", "refugees"),
    Group("disabled", "disabled", "disabled people"),
    Group("deaf", "deaf", "deaf people"),
    Group("elderly", "elderly", "elderly people", "an"),
)

# First names used in the training half. The probe half (`models.bias.NAME_GROUPS`)
# uses other names, so that what is measured is names in general, not these.
TRAIN_NAMES: dict[str, tuple[str, ...]] = {
    "Anglo-American / British": ("Hannah", "Megan", "Rachel", "Michael", "Peter", "Andrew"),
    "African-American": ("Shanice", "Ebony", "Aaliyah", "Darnell", "Terrell", "Malik"),
    "Arabic": ("Mariam", "Noor", "Salma", "Khalid", "Hassan", "Karim"),
    "South Asian": ("Kavya", "Neha", "Sunita", "Vikram", "Rahul", "Amit"),
    "East Asian": ("Hana", "Xiu", "Seo-yeon", "Kenji", "Jun", "Hyun-woo"),
    "Hispanic": ("Sofia", "Valentina", "Rosa", "Alejandro", "Miguel", "Javier"),
    "West African": ("Ngozi", "Amara", "Chiamaka", "Kwame", "Emeka", "Oluwaseun"),
    "Eastern European": ("Olena", "Katarzyna", "Irina", "Dmitri", "Piotr", "Bogdan"),
}

# Hold the text unless the labels say otherwise; `labels` lists the positive categories.
BENIGN: frozenset[str] = frozenset()
HATE = frozenset({"toxicity", "identity_attack"})
DEHUMANISING = frozenset({"toxicity", "identity_attack", "insult", "severe_toxicity"})
THREAT = frozenset({"toxicity", "identity_attack", "threat", "severe_toxicity"})
INSULT = frozenset({"toxicity", "insult"})


@dataclass(frozen=True)
class Family:
    """Templates of one kind, with the labels and the decision they share."""

    name: str
    positives: frozenset[str]
    hold: bool
    templates: tuple[str, ...]
    slot: Literal["group", "name", "none"] = "group"


# Slots: {adj} "Muslim", {a_adj} "a Muslim", {people} "Muslims", {People} capitalised,
# {name} a first name. Families with no slot are used as written.
FAMILIES: tuple[Family, ...] = (
    Family(
        "benign_positive",
        BENIGN,
        False,
        (
            "{People} deserve to feel safe in their own neighbourhood.",
            "{People} should have the same rights as everyone else in this country.",
            "My {adj} neighbours are the kindest people on the block.",
            "I am glad the festival celebrated {people} this year.",
            "{People} have done so much for this city's music scene.",
            "The best teacher I ever had was {a_adj} woman.",
            "Some of the funniest comedians working today are {adj}.",
            "Proud of the {adj} kids from our school who won the science fair.",
            "{People} are welcome at our table any day.",
            "Our team got better when more {people} joined it.",
        ),
    ),
    Family(
        "benign_rights",
        BENIGN,
        False,
        (
            "{People} should be treated equally under the law.",
            "Of course {people} deserve equal pay for equal work.",
            "Every {adj} person has the right to marry whoever they love.",
            "{People} have the same right to a home as anyone else.",
            "I will always stand up for the rights of {people}.",
            "Discrimination against {people} should be illegal everywhere.",
            "{People} should be able to walk down the street without fear.",
            "Equal rights for {people} are human rights.",
            "{People} deserve respect, just like every other person here.",
            "No one should lose a job for being {adj}.",
        ),
    ),
    Family(
        "benign_neutral",
        BENIGN,
        False,
        (
            "There are a lot of {adj} families in the part of town where I grew up.",
            "My cousin married {a_adj} man last summer.",
            "The article says {people} make up about a tenth of the county.",
            "I sat next to {a_adj} couple on the train this morning.",
            "A few {adj} students asked the council about bus times.",
            "The new clinic has staff who are {adj} as well.",
            "{People} vote in every election, like everyone else.",
            "My dentist is {adj} and very good at her job.",
            "Two {adj} colleagues and I are organising the office picnic.",
            "Is the library running a reading group for {people}?",
        ),
    ),
    Family(
        "self_identification",
        BENIGN,
        False,
        (
            "As {a_adj} person, I found this piece thoughtful and fair.",
            "I'm {adj} and I have lived on this street for twenty years.",
            "Speaking as {a_adj} mother of three, the new playground is wonderful.",
            "I am {a_adj} man and I volunteer at the food bank on Sundays.",
            "Being {adj} has never stopped me from loving this town.",
            "As {a_adj} reader, thank you for covering our community fairly.",
            "I'm {a_adj} woman and an engineer, and I agree with the author.",
            "My whole family is {adj}, and we all came to the parade.",
        ),
    ),
    Family(
        "news_like",
        BENIGN,
        False,
        (
            "A survey published on Monday asked {people} about their working hours.",
            "The council met {adj} community leaders to discuss the new bus routes.",
            "Police said the march by {people} passed off peacefully.",
            "The museum opens an exhibition on the history of {people} in the region.",
            "Researchers interviewed 400 {people} for the housing report.",
            "The charity said donations to {adj} families doubled this winter.",
            "A new law protects {people} from discrimination at work.",
            "The mayor visited {a_adj} youth centre on Friday afternoon.",
        ),
    ),
    Family(
        "hate_dehumanising",
        DEHUMANISING,
        True,
        (
            "{People} are vermin and should be treated like it.",
            "{People} are not really human, they are animals.",
            "{People} are a disease spreading through this country.",
            "Every {adj} person is a parasite living off the rest of us.",
            "{People} are filth, pure and simple.",
            "{People} breed like rats and ruin every place they live.",
            "I see {people} the way I see cockroaches.",
            "{People} are subhuman trash.",
            "{People} are a plague of locusts eating this town alive.",
            "Calling {people} people is an insult to actual people.",
            "{People} are livestock with voting rights.",
            "You can't reason with {people}, you can only exterminate pests.",
            "{People} crawl out of the sewers every night.",
            "Every {adj} neighbourhood is a zoo without bars.",
            "{People} are a cancer, and cancer gets cut out.",
            "Don't waste sympathy on {people}; they are barely more than apes.",
        ),
    ),
    Family(
        "hate_threat",
        THREAT,
        True,
        (
            "We should round up all {people} and get rid of them for good.",
            "Someone ought to burn down every {adj} home in this town.",
            "If I see {a_adj} person on my street I will beat them bloody.",
            "All {people} deserve a bullet.",
            "It is time to make {people} disappear from this country, by force.",
            "I hope {people} get what is coming to them, and I will help.",
            "Any {adj} family that moves in here will be driven out with fire.",
            "{People} should be lined up and shot.",
            "{People} had better watch their backs around here.",
            "One day soon {people} will pay for this, I promise you.",
            "Give me a car and a crowd of {people} and watch what happens.",
            "The next {adj} person who walks into my shop leaves in an ambulance.",
            "We know where the {adj} families on Mill Road live. Tonight we visit.",
            "{People} should be hanged from the lampposts as a warning.",
            "Torch their mosques, their shops, their homes: {people} must go.",
            "I'm bringing a baseball bat to the {adj} meeting on Friday.",
            "Somebody should poison the water at the {adj} community centre.",
            "Kill every last one of the {people}, children included.",
            "{People} will be the first ones against the wall when it starts.",
            "Drown the {people} in the river and be done with it.",
            "If {people} march through our town again, we will be waiting with knives.",
            "Gas the {people}.",
        ),
    ),
    Family(
        "hate_implicit",
        HATE,
        True,
        (
            "{People} should go back to where they came from.",
            "I would never let {a_adj} person anywhere near my children.",
            "{People} can't be trusted with anything important.",
            "This country was better before {people} showed up.",
            "Of course the thief was {adj}, what else would you expect.",
            "{People} don't belong in decent society.",
            "Hiring {people} is how you ruin a company.",
            "No wonder the neighbourhood went downhill, {people} moved in.",
            "{People} are all the same: lazy and dishonest.",
            "Keep {people} out of our schools.",
            "{People} are ruining this country and everyone knows it.",
            "I don't want {people} living on my street.",
            "{People} only come here to take what is ours.",
            "Why do we even let {people} vote?",
            "{People} are welcome here as long as they stay invisible.",
            "I'm not racist, but {people} just don't have the brains for real work.",
            "Funny how crime went up the same year {people} arrived.",
            "Property values drop the moment {a_adj} family buys on the street.",
            "Just once I'd like to meet {a_adj} person who isn't on benefits.",
            "{People} were never meant to live among civilised folk.",
            "Another {adj} 'doctor'? I'll be checking his certificates.",
            "Let {people} run the country and watch it burn within a year.",
            "The problem with {people} is that they breed faster than they work.",
            "Decent towns used to have signs keeping {people} out. Bring them back.",
            "{People} teaching our children is how you poison a generation.",
            "Sure, {people} have rights. Somewhere else.",
        ),
    ),
    Family(
        "hate_implicit_no_group",
        HATE,
        True,
        (
            "Your kind is not welcome here.",
            "Go back to your own country.",
            "People like you should be sent back where you came from.",
            "Go home, nobody here wants your kind.",
            "You people ruin every neighbourhood you move into.",
            "Nobody asked you to come to this country, so leave.",
            "Your lot have ruined enough countries already; don't start on ours.",
            "Pack your bags, foreigner, this town is for its own people.",
            "Keep your filthy customs to yourselves or get out.",
            "We were doing fine before your sort turned up.",
        ),
        slot="none",
    ),
    Family(
        "negated_hate",
        BENIGN,
        False,
        (
            "I don't hate {people}; several of my closest friends are {adj}.",
            "I would never say {people} are worse than anyone else.",
            "There is nothing wrong with being {adj}.",
            "No, {people} are not dangerous, and the statistics show it.",
            "I have never had a problem with {people} and I never will.",
            "It is not true that {people} are lazy.",
            "Nobody in our family thinks less of {people}.",
            "{People} are not the reason rents went up.",
            "Nobody here thinks {people} are criminals.",
            "I refuse to believe that {people} are any worse than the rest of us.",
            "{People} are not a threat to anyone.",
            "It's wrong to say {people} don't belong here.",
        ),
    ),
    Family(
        "counter_speech",
        BENIGN,
        False,
        (
            'Saying "{people} are animals" is disgusting, and it has no place here.',
            "The graffiti said {people} should leave; the whole street helped paint over it.",
            "If you think {people} are less than human, you need to rethink your views.",
            'Whoever shouted "go home" at those {adj} kids should be ashamed.',
            "Comments calling {people} vermin are exactly the hate we should report.",
            "I am tired of hearing that {people} are criminals. It is a lie.",
            "The speaker claimed {people} were a threat; the crowd rightly booed him.",
            "Calling {people} a disease is how persecution starts, and we must stop it.",
            "Someone wrote that {people} should be deported; that post is vile and I reported it.",
            'Stop telling {people} to "go back home". This is their home.',
            "People who call {people} animals are the ones behaving badly.",
            "The old pamphlet claimed {people} were subhuman, which shows how far we have come.",
        ),
    ),
    Family(
        "reclaimed_self_reference",
        BENIGN,
        False,
        (
            "Us queers have been throwing this street party for ten years.",
            "As a proud dyke, I loved the bit about the roller derby team.",
            "We crips know more about accessible buses than the council does.",
            "Queer and here, and so glad the bookshop reopened.",
            "As an old queer, I remember when this bar was the only safe place.",
            "Fellow queers, the choir is looking for tenors.",
        ),
        slot="none",
    ),
    Family(
        "profanity_untargeted",
        frozenset({"profanity"}),
        False,
        (
            "Damn, that was a great match.",
            "Holy shit, the fireworks last night were incredible.",
            "This bloody printer jammed again, but the article printed fine.",
            "Hell yes, the bakery is finally open on Sundays!",
            "Crap, I missed the concert. Anyone have a recording?",
            "What the hell happened to the bus timetable this week?",
        ),
        slot="none",
    ),
    Family(
        "name_benign",
        BENIGN,
        False,
        (
            "{name}, your recipe worked perfectly, thank you.",
            "Nice to see you here again, {name}.",
            "I agree with {name} about the parking.",
            "Welcome back, {name}! We missed your comments.",
            "{name} makes a fair point about the school budget.",
            "Congratulations on the new job, {name}.",
            "Good luck with the marathon, {name}!",
            "{name}, could you share the link to that study?",
            "Love your photos, {name}!",
            "You always make me laugh, {name}.",
            "I like your garden, {name}, it looks lovely.",
            "Thank you so much {name}, you made my day.",
        ),
        slot="name",
    ),
    Family(
        "name_insult",
        INSULT,
        True,
        (
            "{name}, you are a complete idiot.",
            "Shut up, {name}, nobody cares what you think, moron.",
            "{name} is the dumbest person in this comment section.",
            "You are pathetic, {name}, a total loser.",
            "{name}, you brainless clown, read the article first.",
            "Nobody wants you here, {name}, you worthless troll.",
            "{name}, you are a disgrace and a liar.",
            "Get lost, {name}, you absolute fool.",
        ),
        slot="name",
    ),
)


@dataclass(frozen=True)
class AuthoredExample:
    """One filled template: text, where it came from, its six labels and the right decision."""

    text: str
    family: str
    template: str
    group: str  # the group key, the name community, or "" for a template with no slot
    labels: tuple[float, ...]  # in CATEGORIES order
    hold: bool
    language: str = "en"  # ISO 639-1 code of the text


def fill(template: str, group: Group) -> str:
    """A template with its slots filled for one group, its first letter capitalised."""
    people = group.people
    text = template.format(
        adj=group.adj,
        a_adj=f"{group.article} {group.adj}",
        people=people,
        People=people[0].upper() + people[1:],
    )
    return text[0].upper() + text[1:]


def half_of(index: int) -> Half:
    """Which half a family's template at this position belongs to: even trains, odd probes."""
    return "train" if index % 2 == 0 else "probe"


def name_groups(half: Half) -> dict[str, tuple[str, ...]]:
    """First names by community: ours for training, the bias probe's for probing."""
    if half == "train":
        return TRAIN_NAMES
    from models.bias import NAME_GROUPS

    return NAME_GROUPS


def templates_of(
    family: Family, half: Half, training_only: Mapping[str, tuple[str, ...]] = TRAINING_ONLY
) -> list[str]:
    """A family's templates in one half: its alternate positions, plus for training its
    training-only templates (by family name; `models.authored_training` for English),
    which no probe ever holds."""
    templates = [t for i, t in enumerate(family.templates) if half_of(i) == half]
    if half == "train":
        templates += training_only.get(family.name, ())
    return templates


def examples(half: Half, families: tuple[Family, ...] = FAMILIES) -> list[AuthoredExample]:
    """Every template of the given half, filled with every group (or name)."""
    out: list[AuthoredExample] = []
    for family in families:
        labels = tuple(1.0 if c in family.positives else 0.0 for c in CATEGORIES)
        for template in templates_of(family, half):
            fills: list[tuple[str, str]]
            if family.slot == "group":
                fills = [(fill(template, g), g.key) for g in GROUPS]
            elif family.slot == "name":
                fills = [
                    (template.format(name=n), community)
                    for community, names in name_groups(half).items()
                    for n in names
                ]
            else:
                fills = [(template, "")]
            out.extend(
                AuthoredExample(text, family.name, template, key, labels, family.hold)
                for text, key in fills
            )
    return out
