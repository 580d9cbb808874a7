"""
A reference point for docs/VALIDATION.md (issue 7): a plain logistic regression on 38 features of each
KDD enrollment's own window (active days, log event counts in total and per event type over the last 3, 7,
14 and 30 days, days since the last and the first activity), fitted on five courses and judged on the other
five, as the calibration is. Standard library only (no numpy here): python3 kdd_logistic_baseline.py [DATA_DIR]
"""
import sys
import csv, math, datetime, random
D=(sys.argv[1] if len(sys.argv) > 1 else __import__('os').path.join(__import__('os').path.dirname(__file__), '..', '..', '..', 'shared', 'datasets', 'kddcup2015-2013')) + '/'
enr={}
for r in csv.DictReader(open(D+'enrollments.csv')):
    enr[r['enrollment_id']]=dict(course=r['course_key'],start=datetime.date.fromisoformat(r['window_start']),end=datetime.date.fromisoformat(r['window_end']),y=int(r['dropout']))
act={}
for r in csv.DictReader(open(D+'daily_activity.csv')):
    e=r['enrollment_id']; d=datetime.date.fromisoformat(r['date'])
    act.setdefault(e,[]).append(((enr[e]['end']-d).days, r['event_type'], int(r['count'])))
types=['access','discussion','navigate','page_close','problem','video','wiki']
def feats(e):
    rows=act.get(e,[])
    f=[]
    for w in (3,7,14,30):
        days=set(a for a,t,c in rows if a<w)
        f.append(len(days))
        f.append(math.log1p(sum(c for a,t,c in rows if a<w)))
        for t in types:
            f.append(math.log1p(sum(c for a,t2,c in rows if a<w and t2==t)))
    last=min([a for a,t,c in rows], default=30)
    f.append(last); f.append(math.log1p(last))
    first=max([a for a,t,c in rows], default=0)
    f.append(first)
    return f
X={e:feats(e) for e in enr}
courses=sorted(set(v['course'] for v in enr.values()), key=lambda c: min(v['start'] for v in enr.values() if v['course']==c))
A=courses[:5]; B=courses[5:]
def auc(scores, ys):
    pairs=sorted(zip(scores,ys))
    # rank-sum with ties
    n=len(pairs); ranks=[0]*n; i=0
    while i<n:
        j=i
        while j+1<n and pairs[j+1][0]==pairs[i][0]: j+=1
        for k in range(i,j+1): ranks[k]=(i+j)/2+1
        i=j+1
    P=sum(y for s,y in pairs); N=n-P
    return (sum(r for r,(s,y) in zip(ranks,pairs) if y)-P*(P+1)/2)/(P*N)
def fit(train):
    xs=[X[e] for e in train]; ys=[enr[e]['y'] for e in train]
    m=len(xs[0]); mu=[sum(x[j] for x in xs)/len(xs) for j in range(m)]
    sd=[max(1e-9,math.sqrt(sum((x[j]-mu[j])**2 for x in xs)/len(xs))) for j in range(m)]
    Z=[[(x[j]-mu[j])/sd[j] for j in range(m)] for x in xs]
    w=[0.0]*m; b=0.0; lr=0.5; lam=1e-3
    for it in range(300):
        gw=[0.0]*m; gb=0.0
        for z,y in zip(Z,ys):
            p=1/(1+math.exp(-(b+sum(wj*zj for wj,zj in zip(w,z)))))
            d=p-y; gb+=d
            for j in range(m): gw[j]+=d*z[j]
        n=len(Z)
        b-=lr*gb/n
        for j in range(m): w[j]-=lr*(gw[j]/n+lam*w[j])
    return lambda x: b+sum(wj*(x[j]-mu[j])/sd[j] for j,wj in enumerate(w))
for tr,te in ((A,B),(B,A)):
    train=[e for e in enr if enr[e]['course'] in tr]; test=[e for e in enr if enr[e]['course'] in te]
    f=fit(train)
    print('LR fit on',tr,'train AUC',round(auc([f(X[e]) for e in train],[enr[e]['y'] for e in train]),4),'test AUC',round(auc([f(X[e]) for e in test],[enr[e]['y'] for e in test]),4))
